/** Field shapes more than one config section uses, so each rule and its message are written once. */
import { z } from "zod";

export const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** A name Kubernetes accepts as a namespace or object name, at most `max` characters. */
export const dnsName = (max: number) =>
    z
        .string()
        .max(max, { message: `must be at most ${max} characters` })
        .regex(DNS_LABEL, {
            message: "must be lower-case letters, digits and '-', starting with a letter (a DNS label)",
        });

export const whole = z.number().int({ message: "must be a whole number" });

export const iamRoleArn = z
    .string()
    .regex(IAM_ROLE_ARN, { message: "must be an IAM role ARN, arn:aws:iam::<account>:role/<name>" });
