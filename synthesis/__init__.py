"""Stage 2 and all program search: latent-space CEM/CEBS, hill climbing, LLM-GS, sweeps and reports."""
