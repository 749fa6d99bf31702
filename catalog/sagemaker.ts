/**
 * SageMaker's own hourly rates for `ml.` instance types. SageMaker bills its instances at rates
 * above EC2's for the same hardware (its pricing page lists them per feature: training,
 * real-time inference, notebooks, processing), and AWS publishes them in the Price List under
 * the AmazonSageMaker service code. An `ml.` type without a rate here is priced at its EC2
 * type's on-demand rate (catalog/instances.ts) and the estimate says so, as a floor.
 *
 * The rates below are on-demand Training rates in us-east-1 (PRICE_REGION, the region of both
 * stacks), as the AWS Price List API (`aws pricing get-products --service-code AmazonSageMaker`)
 * answered them in public captures dated 2026-08-17 (g5, g6e) and mid-2026 (p4de), read here
 * on 2026-12-07; this machine cannot reach the Price List itself. They are applied to every
 * SageMaker feature: where hosting or notebook rates differ, they were not read.
 * - ml.p4de.24xlarge is EC2's p4de.24xlarge × 1.15 exactly ($27.44705 × 1.15), as SageMaker's
 *   P-family rates are since AWS's June 2025 reduction.
 * - ml.p4d.24xlarge ($25.251286) and ml.p5.48xlarge ($63.296) were found only as us-west-2
 *   captures: not us-east-1 figures, so those two stay at the EC2 floor until read there.
 *
 * To add one, write the `ml.` type, its Linux rate in PRICE_REGION, and where and when it was
 * read, e.g. `"ml.p5.48xlarge": { usdPerHour: …, source: "AWS Price List, AmazonSageMaker,
 * us-east-1, read YYYY-MM-DD" }`.
 */
export interface SageMakerRate {
    readonly usdPerHour: number;
    /** Where the rate was read, and when. */
    readonly source: string;
}

const CAPTURED = "AWS Price List API, AmazonSageMaker, us-east-1, on-demand Training";

export const SAGEMAKER_USD_PER_HOUR: Readonly<Record<string, SageMakerRate>> = {
    "ml.g5.xlarge": { usdPerHour: 1.408, source: `${CAPTURED}, captured 2026-08-17, read 2026-12-07` },
    "ml.g5.12xlarge": { usdPerHour: 7.09, source: `${CAPTURED}, captured 2026, read 2026-12-07` },
    "ml.g6e.xlarge": { usdPerHour: 2.61, source: `${CAPTURED}, captured 2026-08-17, read 2026-12-07` },
    "ml.p4de.24xlarge": { usdPerHour: 31.5641075, source: `${CAPTURED}, captured 2026, read 2026-12-07` },
};

/** SageMaker's rate for an `ml.` type, when the catalog has one. */
export function sageMakerRate(mlType: string): SageMakerRate | undefined {
    const key = mlType.trim().toLowerCase();
    return Object.hasOwn(SAGEMAKER_USD_PER_HOUR, key) ? SAGEMAKER_USD_PER_HOUR[key] : undefined;
}
