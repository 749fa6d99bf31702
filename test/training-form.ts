/**
 * The gpu-training-job template's form as ada fills it in for ml-research: 8 H100s for 6 h under
 * `training` (1 H100 = p5.48xlarge's $55.04/h ÷ 8 = $6.88; × 8 × 6 = $330.24). Shared by the
 * template specs and the budget loop.
 */
export const TRAINING_FORM = {
    name: "llama-ft",
    team: "group:default/ml-research",
    modelName: "support-llama",
    modelVersion: 1,
    image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-research/trainer:2.1.0",
    command: "python train.py --epochs 3",
    pool: "h100",
    gpuResource: "nvidia.com/gpu",
    gpus: 8,
    hours: 6,
    priorityClass: "training",
    cpu: 64,
    memoryGi: 512,
};
