/**
 * Admission rule sets: ValidatingAdmissionPolicies as plain data (one file per rule set), for
 * the components that install them and for offline evaluation by the specs and the policy pack.
 */
export type { AdmissionRuleSet } from "./types";
export {
    KUBERNETES_JOB_CONTROLLERS,
    KUEUE_ADMISSION_GATE,
    KUEUE_MANAGED_GPU_PODS_POLICY,
    KUEUE_MANAGED_OWNERS,
    kueueManagedGpuPods,
} from "./kueue-managed-gpu-pods";
export type { KueueManagedGpuPodsOptions } from "./kueue-managed-gpu-pods";
