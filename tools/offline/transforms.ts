/**
 * Resource transforms, run as the Pulumi engine runs them, so that a transform cannot change
 * what a preview shows unseen (a node group's maxSize, a pod template's GPUs). The program's SDK
 * (3.x `registerResourceTransform` / the `transforms` resource option) serves each transform as
 * a callback on its own gRPC server (@pulumi/pulumi runtime/callbacks.js, `CallbackServer`); the
 * engine calls them while registering a resource. Order, as the engine's RegisterResource does
 * it (pulumi/pulumi pkg/resource/deploy/source_eval.go): the resource's own transforms, then each
 * ancestor's from its parent up, then the stack transforms registered so far; each gets what the
 * one before returned. A transform's error fails that registration, as in `pulumi preview`.
 *
 * The older `transformations` option and `registerStackTransformation` run inside the SDK before
 * anything reaches the engine, so the offline engine sees their result without doing anything.
 */
import * as grpc from "@grpc/grpc-js";
import * as callbackproto from "@pulumi/pulumi/proto/callback_pb";
import * as callbackrpc from "@pulumi/pulumi/proto/callback_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";

type Request = resproto.RegisterResourceRequest;

export class ResourceTransforms {
    private readonly stackTransforms: callbackproto.Callback[] = [];
    /** Each registered resource's own transforms, which its descendants inherit. */
    private readonly own = new Map<string, callbackproto.Callback[]>();
    private readonly parents = new Map<string, string>();
    private readonly clients = new Map<string, callbackrpc.CallbacksClient>();

    /** `registerStackTransform`: applies to every resource registered after it. */
    registerStack(callback: callbackproto.Callback): void {
        this.stackTransforms.push(callback);
    }

    /** Runs every transform that applies to `req` and writes what they return back into it. */
    async apply(req: Request): Promise<void> {
        const transforms = [...req.getTransformsList(), ...this.ancestorsTransforms(req.getParent())];
        transforms.push(...this.stackTransforms);
        let properties = req.getObject();
        let options = optionsOf(req);
        for (const transform of transforms) {
            const asked = new resproto.TransformRequest()
                .setType(req.getType())
                .setName(req.getName())
                .setCustom(req.getCustom())
                .setParent(req.getParent())
                .setProperties(properties)
                .setOptions(options);
            const answer = await this.call(transform, asked);
            properties = answer.getProperties() ?? properties;
            options = answer.getOptions() ?? options;
        }
        if (transforms.length > 0) applyOptions(req.setObject(properties), options);
    }

    /** Records a registered resource, so its children inherit its own transforms. */
    remember(urn: string, req: Request): void {
        if (req.getParent()) this.parents.set(urn, req.getParent());
        if (req.getTransformsList().length > 0) this.own.set(urn, req.getTransformsList());
    }

    close(): void {
        for (const client of this.clients.values()) client.close();
        this.clients.clear();
    }

    private ancestorsTransforms(parent: string): callbackproto.Callback[] {
        const found: callbackproto.Callback[] = [];
        const seen = new Set<string>();
        for (let at = parent; at && !seen.has(at); at = this.parents.get(at) ?? "") {
            seen.add(at);
            found.push(...(this.own.get(at) ?? []));
        }
        return found;
    }

    private call(
        transform: callbackproto.Callback,
        asked: resproto.TransformRequest,
    ): Promise<resproto.TransformResponse> {
        let client = this.clients.get(transform.getTarget());
        if (!client) {
            client = new callbackrpc.CallbacksClient(transform.getTarget(), grpc.credentials.createInsecure());
            this.clients.set(transform.getTarget(), client);
        }
        const request = new callbackproto.CallbackInvokeRequest()
            .setToken(transform.getToken())
            .setRequest(asked.serializeBinary());
        return new Promise((resolve, reject) =>
            client.invoke(request, (err, response) => {
                if (err || !response)
                    reject(
                        new Error(
                            `transform of ${asked.getType()} "${asked.getName()}" failed: ${err?.details ?? "no answer"}`,
                        ),
                    );
                else resolve(resproto.TransformResponse.deserializeBinary(response.getResponse_asU8()));
            }),
        );
    }
}

/** The options a transform sees, from the registration (the engine's `TransformResourceOptions`). */
function optionsOf(req: Request): resproto.TransformResourceOptions {
    const options = new resproto.TransformResourceOptions()
        .setDependsOnList(req.getDependenciesList())
        .setIgnoreChangesList(req.getIgnorechangesList())
        .setReplaceOnChangesList(req.getReplaceonchangesList())
        .setVersion(req.getVersion())
        .setAliasesList(req.getAliasesList())
        .setProvider(req.getProvider())
        .setCustomTimeouts(req.getCustomtimeouts())
        .setPluginDownloadUrl(req.getPlugindownloadurl())
        .setDeletedWith(req.getDeletedwith())
        .setAdditionalSecretOutputsList(req.getAdditionalsecretoutputsList());
    if (req.getDeletebeforereplacedefined()) options.setDeleteBeforeReplace(req.getDeletebeforereplace());
    if (req.hasProtect()) options.setProtect(req.getProtect()!);
    if (req.hasRetainondelete()) options.setRetainOnDelete(req.getRetainondelete()!);
    req.getProvidersMap().forEach((value, key) => options.getProvidersMap().set(key, value));
    return options;
}

/** Writes a transform's options back into the registration, as the engine goes on with them. */
function applyOptions(req: Request, options: resproto.TransformResourceOptions): void {
    req.setDependenciesList(options.getDependsOnList())
        .setIgnorechangesList(options.getIgnoreChangesList())
        .setReplaceonchangesList(options.getReplaceOnChangesList())
        .setVersion(options.getVersion())
        .setAliasesList(options.getAliasesList())
        .setProvider(options.getProvider())
        .setCustomtimeouts(options.getCustomTimeouts())
        .setPlugindownloadurl(options.getPluginDownloadUrl())
        .setDeletedwith(options.getDeletedWith())
        .setDeletebeforereplace(options.getDeleteBeforeReplace() ?? false)
        .setDeletebeforereplacedefined(options.hasDeleteBeforeReplace())
        .setAdditionalsecretoutputsList(options.getAdditionalSecretOutputsList());
    if (options.hasProtect()) req.setProtect(options.getProtect()!);
    if (options.hasRetainOnDelete()) req.setRetainondelete(options.getRetainOnDelete()!);
    req.getProvidersMap().clear();
    options.getProvidersMap().forEach((value, key) => req.getProvidersMap().set(key, value));
}
