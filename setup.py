from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="karel-prl",
    version="0.1.0",
    description="Programmatic reinforcement learning on Karel and MiniGrid: LEAPS, hill climbing, LLM-GS, one batched executor.",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["karel", "karel.*", "leaps", "leaps.*", "synthesis", "synthesis.*"]),
    package_data={"karel": ["py.typed"]},
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "numba>=0.59",
        "gymnasium>=1.0",
        "minigrid>=3.0",
        "pillow>=10",
        "jsonargparse[signatures]>=4.27.7",
        "docstring-parser>=0.15",  # the settings dataclasses' field docstrings: the CLI help (synthesis.settings)
        "pyyaml>=6",
        "tensorboard>=2.14",
        "tqdm>=4.66",
        "matplotlib>=3.7",
        "h5py>=3.9",
        "pytorch-lightning>=2.2",
        "openai>=1.30",
    ],
    extras_require={
        "ray": ["ray>=2.30"],  # synthesis sweep --backend ray
        "test": ["pytest>=8", "ray>=2.30"],
    },
    entry_points={
        "console_scripts": [
            "karel = karel.cli:main",
            "leaps = leaps.cli:main",
            "synthesis = synthesis.cli:main",
        ],
    },
)
