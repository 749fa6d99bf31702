/** `@gpu-platform/components/network`: the VPC (needs `@pulumi/awsx`), DNS alias records and DNS-validated certificates. */
export { Network, subnetMasks } from "./network";
export type { NetworkArgs } from "./network";
export { AliasRecords, aliasRecordsArgsProblems } from "./alias-records";
export type { AliasRecordsArgs, AliasTarget } from "./alias-records";
export { HostCertificate, hostCertificateArgsProblems, ACM_NAMES_PER_CERTIFICATE } from "./host-certificate";
export type { HostCertificateArgs } from "./host-certificate";
