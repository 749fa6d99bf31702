/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
 * holder renews `renewTime` every `retrySeconds`; another replica takes the lease over only when
 * it has not been renewed for `leaseDurationSeconds`. Writes carry the lease's resourceVersion,
 * so two replicas never both win. A leader that cannot renew within the lease duration stops
 * leading (`onStopped`), before another may take over.
 */
import type { KubeApi, Lease } from "./kube";

export interface LeaderOptions {
    readonly kube: KubeApi;
    readonly namespace: string;
    readonly name: string;
    readonly identity: string;
    readonly now: () => Date;
    readonly leaseDurationSeconds?: number;
    readonly retrySeconds?: number;
    readonly onStarted: () => void;
    readonly onStopped: () => void;
}

/** One attempt to acquire or renew: true while this identity holds the lease. */
export async function tryAcquire(o: LeaderOptions, current: Lease | undefined): Promise<boolean> {
    const now = o.now();
    const duration = o.leaseDurationSeconds ?? 15;
    const mine = current?.holderIdentity === o.identity;
    const expired =
        !current?.renewTime ||
        Date.parse(current.renewTime) + (current.leaseDurationSeconds ?? duration) * 1000 < now.getTime();
    if (current && !mine && !expired) return false;
    return o.kube.writeLease(o.namespace, o.name, {
        holderIdentity: o.identity,
        leaseDurationSeconds: duration,
        acquireTime: mine ? current?.acquireTime : now.toISOString(),
        renewTime: now.toISOString(),
        leaseTransitions: (current?.leaseTransitions ?? 0) + (mine || !current ? 0 : 1),
        resourceVersion: current?.resourceVersion,
    });
}

/** Runs the election until `signal` aborts; calls onStarted once leading and onStopped when leadership is lost. */
export async function runElection(o: LeaderOptions, signal: AbortSignal): Promise<void> {
    const retryMs = (o.retrySeconds ?? 2) * 1000;
    const durationMs = (o.leaseDurationSeconds ?? 15) * 1000;
    let leading = false;
    let lastRenew = 0;
    while (!signal.aborted) {
        const held = await o.kube
            .readLease(o.namespace, o.name)
            .then((lease) => tryAcquire(o, lease))
            .catch(() => false);
        if (held) {
            lastRenew = o.now().getTime();
            if (!leading) {
                leading = true;
                o.onStarted();
            }
        } else if (leading && o.now().getTime() - lastRenew > durationMs * 0.8) {
            o.onStopped();
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
}
