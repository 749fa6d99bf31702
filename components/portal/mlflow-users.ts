import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { ExternalSecrets, externalSecret } from "./external-secrets";
import { teamSecretPrefix } from "./team-secret-store";

export const MLFLOW_TEAM_USERS_TYPE = `${PACKAGE}:portal:MlflowTeamUsers`;

export const MLFLOW_USERS = {
    /** The Job, and the synced admin Secret it and the server read (keys `username`, `password`). */
    job: "mlflow-team-users",
    adminSecret: "mlflow-auth-admin",
    /** The admin's user name in MLflow. */
    adminUsername: "mlflow-admin",
    /** Where each team's credentials are mounted in the Job's pod: `<dir>/<team>/{username,password}`. */
    credentialsDir: "/teams",
    /** Python's standard library is all the script needs. */
    image: "public.ecr.aws/docker/library/python:3.12.8-alpine",
    /** Secrets Manager generates alphanumeric passwords: the chart pastes them into a sed expression and a database URL. */
    passwordLength: 40,
} as const;

/** The Kubernetes Secret (in MLflow's namespace) holding a team's MLflow credentials, for the Job. */
export function teamUserSecretName(team: string): string {
    return `mlflow-team-${team}`;
}

/** The Secrets Manager name of a team's MLflow credentials: under the team's prefix, so its `team-secrets` store reads it. */
export function teamUserSecretPath(teamSecretsPrefix: string, team: string): string {
    return `${teamSecretPrefix(teamSecretsPrefix, team)}mlflow`;
}

export interface MlflowTeamUsersArgs {
    /** The teams: one MLflow user each, named as the team. */
    teams: string[];
    /** The stack's prefix in Secrets Manager: a team's credentials are `<prefix>/teams/<team>/mlflow`. */
    teamSecretsPrefix: string;
    /** MLflow's namespace, where the Job runs and the credentials are synced. */
    namespace: string;
    /** The server inside the cluster, e.g. `http://mlflow.mlflow.svc`. */
    url: string;
    /** The External Secrets Operator, which syncs each team's credentials into MLflow's namespace for the Job. */
    externalSecrets: ExternalSecrets;
    /** The MLflow release: the Job calls the server, so it runs after it. */
    server: pulumi.Resource;
    /** Keep the teams' secrets when the stack is deleted. Default false; the platform sets it in prod. */
    protect?: boolean;
}

/**
 * One MLflow user per team, for MLflow's basic-auth app: each team's credentials are generated
 * into a Secrets Manager secret under the team's own prefix (`<prefix>/teams/<team>/mlflow`,
 * `{"username", "password"}`), which the team's `team-secrets` SecretStore can read and no other
 * team's can; a Job then creates the users through MLflow's REST API as the admin.
 *
 * The users are not admins. MLflow gives the creator of an experiment or registered model
 * MANAGE on it, and with `default_permission = NO_PERMISSIONS` nobody else gets anything until a
 * MANAGE holder grants it: a team sees its own work and no other team's.
 *
 * The Job is idempotent: a user that exists gets its password set to the stored one (so a
 * password rotated in Secrets Manager takes effect at the next run) and its admin flag cleared.
 * A new team changes the Job's spec, so `up` replaces it and it runs again.
 *
 * Cost: one secret per team ($0.40 a month each); the Job's pod runs for seconds.
 */
export class MlflowTeamUsers extends pulumi.ComponentResource {
    /** Each team's credentials secret in Secrets Manager, by team. */
    public readonly secrets: Record<string, aws.secretsmanager.Secret>;
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: MlflowTeamUsersArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("MlflowTeamUsers", name, mlflowTeamUsersArgsProblems(args));
        super(MLFLOW_TEAM_USERS_TYPE, name, {}, opts);
        const protect = args.protect ?? false;
        this.secrets = {};
        const synced: pulumi.Resource[] = [];
        for (const team of args.teams) {
            this.secrets[team] = generatedCredentials(
                `${name}-${team}`,
                {
                    secretName: teamUserSecretPath(args.teamSecretsPrefix, team),
                    username: team,
                    description: `MLflow user and password of team ${team}; read through the team's team-secrets store`,
                    protect,
                },
                this,
            ).secret;
            synced.push(
                externalSecret(
                    `${name}-${team}-synced`,
                    {
                        externalSecrets: args.externalSecrets,
                        namespace: args.namespace,
                        secretName: teamUserSecretName(team),
                        remoteSecret: this.secrets[team].arn,
                        properties: { username: "username", password: "password" },
                    },
                    { parent: this },
                ),
            );
        }
        this.job = new k8s.batch.v1.Job(
            `${name}-job`,
            {
                metadata: { name: MLFLOW_USERS.job, namespace: args.namespace },
                spec: mlflowTeamUsersJobSpec({ url: args.url, teams: args.teams }),
            },
            { parent: this, dependsOn: [args.server, ...synced] },
        );
        this.registerOutputs({
            secretArns: Object.fromEntries(Object.entries(this.secrets).map(([team, s]) => [team, s.arn])),
        });
    }
}

export function mlflowTeamUsersArgsProblems(
    args: Pick<MlflowTeamUsersArgs, "teams" | "teamSecretsPrefix">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const seen = new Set<string>();
    args.teams.forEach((team, i) => {
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(team) || team.length > 63)
            problems.push({
                key: `teams[${i}]`,
                message: `must be a team's namespace name, e.g. ml-research (found "${team}")`,
            });
        else if (team === MLFLOW_USERS.adminUsername)
            problems.push({ key: `teams[${i}]`, message: `"${team}" is the MLflow admin's name; rename the team` });
        if (seen.has(team)) problems.push({ key: `teams[${i}]`, message: `"${team}" is listed twice` });
        seen.add(team);
    });
    if (!/^[\w+=.@-]+(\/[\w+=.@-]+)*$/.test(args.teamSecretsPrefix))
        problems.push({
            key: "teamSecretsPrefix",
            message: `must be a Secrets Manager name prefix without wildcards, e.g. gpu-platform-dev (found "${args.teamSecretsPrefix}")`,
        });
    return problems;
}

/**
 * A Secrets Manager secret `{"username", "password"}` whose password Secrets Manager generates
 * (GetRandomPassword) into a write-only field: the provider sends it to AWS and keeps it in no
 * output; the engine keeps the initial input in state only encrypted, as a secret
 * (pulumi/docs#16806). The version stays 1, so `up` never overwrites a rotated value.
 */
export function generatedCredentials(
    name: string,
    s: { secretName?: string; username: string; description: string; protect: boolean },
    parent: pulumi.Resource,
): { secret: aws.secretsmanager.Secret; version: aws.secretsmanager.SecretVersion } {
    // A fixed name would block a re-create for the 30-day recovery window: kept only where data is protected.
    const secret = new aws.secretsmanager.Secret(
        `${name}-credentials`,
        {
            description: s.description,
            ...(s.secretName !== undefined ? { name: s.secretName } : {}),
            ...(s.protect ? {} : { recoveryWindowInDays: 0 }),
        },
        { parent, retainOnDelete: s.protect },
    );
    const password = aws.secretsmanager.getRandomPasswordOutput(
        { passwordLength: MLFLOW_USERS.passwordLength, excludePunctuation: true },
        { parent },
    );
    const version = new aws.secretsmanager.SecretVersion(
        `${name}-credentials-value`,
        {
            secretId: secret.id,
            secretStringWo: pulumi.secret(
                password.randomPassword.apply((value) => JSON.stringify({ username: s.username, password: value })),
            ),
            secretStringWoVersion: 1,
        },
        { parent },
    );
    return { secret, version };
}

/**
 * The Job's pod: the script, as the admin (the synced admin Secret), with each team's synced
 * credentials mounted read-only as files, so no password is in the pod's spec, environment or
 * command line.
 */
export function mlflowTeamUsersJobSpec(s: { url: string; teams: string[] }): k8s.types.input.batch.v1.JobSpec {
    const adminKey = (key: string) => ({
        valueFrom: { secretKeyRef: { name: MLFLOW_USERS.adminSecret, key } },
    });
    return {
        backoffLimit: 6,
        activeDeadlineSeconds: 900,
        template: {
            spec: {
                restartPolicy: "OnFailure",
                automountServiceAccountToken: false,
                nodeSelector: { ...CPU_NODE_SELECTOR },
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 65534,
                    runAsGroup: 65534,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                volumes: s.teams.map((team) => ({
                    name: `team-${team}`,
                    secret: { secretName: teamUserSecretName(team), defaultMode: 0o400 },
                })),
                containers: [
                    {
                        name: "users",
                        image: MLFLOW_USERS.image,
                        command: ["python3", "-c", MLFLOW_TEAM_USERS_SCRIPT],
                        env: [
                            { name: "MLFLOW_URL", value: s.url },
                            { name: "CREDENTIALS_DIR", value: MLFLOW_USERS.credentialsDir },
                            { name: "PYTHONDONTWRITEBYTECODE", value: "1" },
                            { name: "ADMIN_USERNAME", ...adminKey("username") },
                            { name: "ADMIN_PASSWORD", ...adminKey("password") },
                        ],
                        volumeMounts: s.teams.map((team) => ({
                            name: `team-${team}`,
                            mountPath: `${MLFLOW_USERS.credentialsDir}/${team}`,
                            readOnly: true,
                        })),
                        securityContext: {
                            runAsNonRoot: true,
                            allowPrivilegeEscalation: false,
                            readOnlyRootFilesystem: true,
                            capabilities: { drop: ["ALL"] },
                        },
                        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                    },
                ],
            },
        },
    };
}

/**
 * Creates or re-applies each team's MLflow user (MLflow's basic-auth REST API, mlflow/server/auth
 * at the chart's app version 3.15.1):
 * - `POST /api/2.0/mlflow/users/create` `{"username", "password"}` answers `{"user": {…}}`; an
 *   existing name is HTTP 400 `{"error_code": "RESOURCE_ALREADY_EXISTS", …}`. The handler accepts
 *   only `Content-Type: application/json`, exactly.
 * - `PATCH /api/2.0/mlflow/users/update-password` then sets the stored password, and
 *   `PATCH /api/2.0/mlflow/users/update-admin` `{"is_admin": false}` keeps it a plain user.
 * It waits for `/health` first (the server may still be starting), reports every team, prints no
 * password (a server message that contains one is cut), and exits 1 if any team failed.
 */
export const MLFLOW_TEAM_USERS_SCRIPT = String.raw`
import base64, json, os, sys, time, urllib.error, urllib.request

url = os.environ["MLFLOW_URL"].rstrip("/")
directory = os.environ["CREDENTIALS_DIR"]
admin = base64.b64encode((os.environ["ADMIN_USERNAME"] + ":" + os.environ["ADMIN_PASSWORD"]).encode()).decode()
attempts = int(os.environ.get("HEALTH_ATTEMPTS", "60"))
pause = float(os.environ.get("HEALTH_PAUSE_SECONDS", "5"))

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", "Basic " + admin)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()

def error_code(text):
    try:
        return json.loads(text).get("error_code", "")
    except (ValueError, AttributeError):
        return ""

def wait_until_healthy():
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url + "/health", timeout=10) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(pause)
    return False

def read(team, key):
    with open(os.path.join(directory, team, key)) as handle:
        return handle.read().strip()

def ensure(team):
    username, password = read(team, "username"), read(team, "password")
    credentials = {"username": username, "password": password}
    status, text = call("POST", "/api/2.0/mlflow/users/create", credentials)
    if status == 400 and error_code(text) == "RESOURCE_ALREADY_EXISTS":
        status, text = call("PATCH", "/api/2.0/mlflow/users/update-password", credentials)
        step, outcome = "users/update-password", "exists; password re-applied"
    else:
        step, outcome = "users/create", "created"
    if status == 200:
        status, text = call("PATCH", "/api/2.0/mlflow/users/update-admin", {"username": username, "is_admin": False})
        step = "users/update-admin"
    if status != 200:
        detail = error_code(text) or text.strip()[:200]
        if password:
            detail = detail.replace(password, "<password>")
        print("team %s: %s answered HTTP %d: %s" % (team, step, status, detail), file=sys.stderr)
        return False
    print("team %s: MLflow user %s %s, not an admin" % (team, username, outcome))
    return True

if not wait_until_healthy():
    print("MLflow at %s did not become healthy after %d attempts" % (url, attempts), file=sys.stderr)
    sys.exit(1)
teams = sorted(entry for entry in os.listdir(directory) if not entry.startswith(".")) if os.path.isdir(directory) else []
results = [ensure(team) for team in teams]
sys.exit(0 if all(results) else 1)
`;
