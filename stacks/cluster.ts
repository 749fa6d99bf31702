import { clusterAccessProblems, deployRunnerProblems } from "../components/cluster";
import { sameRole } from "../components/shared/arns";
import type { SettingProblem } from "../components/shared/problems";
import { PROFILES } from "./profiles";
import type { ParsedSections } from "./schema";

/**
 * Who deploys the cluster and from where: the rules of `cluster.creatorRoleArn`,
 * `cluster.deployRunner`, `cluster.apiAccess` and `bootstrap`, and where capacity-block pools go.
 *
 * The first deploy of a stack with a private API endpoint (prod) runs in two steps, because the
 * VPC it creates is the only place the API can be reached from:
 * 1. `bootstrap: true`, from outside the VPC, by `creatorRoleArn`: only what the AWS API makes
 *    (network, cluster, node pools, EKS add-ons, IAM, the deploy runner and its way into the API);
 *    pulumi-eks 4.3.0 itself makes no Kubernetes object here (authentication mode API, no storage
 *    classes: nodejs/eks/cluster/cluster.ts l.1002, 1066-1085).
 * 2. without it, from the deploy runner inside the VPC: everything, and every deploy after.
 */
export function clusterConfigProblems(config: ParsedSections): SettingProblem[] {
    const cluster = config.cluster;
    if (!cluster) return [];
    const problems: SettingProblem[] = [
        ...clusterAccessProblems(
            "cluster.",
            { ...cluster, viewerRoleArns: cluster.previewRoleArns },
            "previewRoleArns",
        ),
    ];
    if (cluster.deployRunner) problems.push(...deployRunnerProblems("cluster.deployRunner.", cluster.deployRunner));

    const creator = cluster.creatorRoleArn;
    const teamRoles = (config.teams ?? []).some((team) => team?.iamRoleArn);
    if (!creator && (cluster.adminRoleArns?.length || cluster.previewRoleArns?.length || teamRoles)) {
        problems.push({
            key: "cluster.creatorRoleArn",
            message:
                "is required with adminRoleArns, previewRoleArns or a team's iamRoleArn: name the IAM role that runs the first pulumi up, which EKS makes cluster admin itself, " +
                "so that no access entry lists it again (a second entry for a role fails with 409)",
        });
    }
    (config.teams ?? []).forEach((team, i) => {
        if (creator && team?.iamRoleArn && sameRole(team.iamRoleArn, creator)) {
            problems.push({
                key: `teams[${i}].iamRoleArn`,
                message:
                    "is cluster.creatorRoleArn, which EKS already made cluster admin (pulumi-eks 4.3.0 always sets bootstrapClusterCreatorAdminPermissions); " +
                    "the team's access entry would be a second one for the role, which fails with 409: give the team its own role",
            });
        }
        const preview = (cluster.previewRoleArns ?? []).findIndex(
            (arn) => team?.iamRoleArn && sameRole(arn, team.iamRoleArn),
        );
        if (preview >= 0) {
            problems.push({
                key: `teams[${i}].iamRoleArn`,
                message: `is cluster.previewRoleArns[${preview}]; a role has one access entry (a second fails with 409): give the team its own role`,
            });
        }
    });

    const access = config.environment
        ? (cluster.endpointAccess ?? PROFILES[config.environment].endpointAccess)
        : cluster.endpointAccess;
    const wayIn =
        cluster.deployRunner || cluster.apiAccess?.securityGroupIds?.length || cluster.apiAccess?.cidrs?.length;
    if (access === "private" && !wayIn) {
        problems.push({
            key: "cluster.deployRunner",
            message:
                "is required with a private API endpoint: nothing outside the VPC can reach it, so pulumi up could not create the cluster's Kubernetes objects; " +
                "set deployRunner.repository (a GitHub Actions runner in the VPC), or apiAccess for a VPN or bastion",
        });
    }
    return problems;
}

/**
 * A capacity-block pool launches only in its block's zone (EKS user guide, "Create a managed
 * node group with Capacity Blocks for ML": "only specify the subnet in the same Availability Zone
 * as the capacity reservation"), so it names that zone; no other pool does.
 */
export function poolPlacementProblems(config: ParsedSections): SettingProblem[] {
    const problems: SettingProblem[] = [];
    for (const [name, pool] of Object.entries(config.nodePools ?? {})) {
        const key = `nodePools.${name}.availabilityZone`;
        if (pool.capacityType !== "capacity-block") {
            if (pool.availabilityZone !== undefined)
                problems.push({
                    key,
                    message: 'is only for capacityType "capacity-block"; other pools use every zone: remove it',
                });
            continue;
        }
        if (pool.availabilityZone === undefined) {
            problems.push({
                key,
                message:
                    'is required with capacityType "capacity-block": the zone of the Capacity Block, e.g. us-east-2a (aws ec2 describe-capacity-reservations)',
            });
        } else if (config.region && !new RegExp(`^${config.region}[a-z]$`).test(pool.availabilityZone)) {
            problems.push({
                key,
                message: `is "${pool.availabilityZone}", not a zone of region ${config.region} (e.g. ${config.region}a)`,
            });
        }
    }
    return problems;
}
