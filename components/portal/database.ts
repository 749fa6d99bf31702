import type * as pulumi from "@pulumi/pulumi";

/** A service's own database on a PostgreSQL server, and where its own user's credentials live. */
export interface ServiceDatabase {
    /** The server's host name (an RDS endpoint address). */
    host: pulumi.Input<string>;
    /** The server's port. */
    port: pulumi.Input<number>;
    /** The server's AWS region: its RDS CA bundle is what the service verifies the server's certificate against. */
    region: string;
    /** The database's name; the service's user owns it. */
    name: string;
    /** Secrets Manager secret holding `{"username": …, "password": …}` of the service's user; synced into Kubernetes, never read by Pulumi. */
    credentialsSecretArn: pulumi.Input<string>;
}
