/**
 * SageMaker's own hourly rates for `ml.` instance types. SageMaker bills its instances at rates
 * above EC2's for the same hardware (its pricing page lists them per feature: training,
 * real-time inference, notebooks, processing), and AWS publishes them in the Price List under
 * the AmazonSageMaker service code. None has been read into this catalog yet: until one is, an
 * `ml.` type is priced at its EC2 type's on-demand rate (catalog/instances.ts) and the estimate
 * says so, as a floor.
 *
 * To add one, write the `ml.` type, its Linux rate in PRICE_REGION for the feature it is used
 * for, and where and when it was read, e.g. `"ml.p4d.24xlarge": { usdPerHour: …, source: "AWS
 * Price List, AmazonSageMaker, us-east-1, read YYYY-MM-DD" }`.
 */
export interface SageMakerRate {
    readonly usdPerHour: number;
    /** Where the rate was read, and when. */
    readonly source: string;
}

export const SAGEMAKER_USD_PER_HOUR: Readonly<Record<string, SageMakerRate>> = {};

/** SageMaker's rate for an `ml.` type, when the catalog has one. */
export function sageMakerRate(mlType: string): SageMakerRate | undefined {
    const key = mlType.trim().toLowerCase();
    return Object.hasOwn(SAGEMAKER_USD_PER_HOUR, key) ? SAGEMAKER_USD_PER_HOUR[key] : undefined;
}
