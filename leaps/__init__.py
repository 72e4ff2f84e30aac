"""Stage 1 of LEAPS: the program dataset, the program VAE and its training (LightningCLI)."""
