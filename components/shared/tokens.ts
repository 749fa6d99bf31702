/** The package part of every component type token: `gpu-platform:<area>:<Class>`. */
export const PACKAGE = "gpu-platform";
