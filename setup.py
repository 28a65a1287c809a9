"""Packaging beyond setup.cfg: the shipped platforms/ and workloads/ live at the
repository's top level and install as tlmsim's package data (tlmsim/platforms,
tlmsim/workloads), so `pip install . && tlmsim run` works from any directory."""

from setuptools import find_packages, setup

SHIPPED = {"tlmsim.platforms": "platforms", "tlmsim.workloads": "workloads"}

setup(
    packages=find_packages(include=["tlmsim", "tlmsim.*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "tlmsim": ["data/*.yaml"],
        "tlmsim.platforms": ["*.yaml"],
        "tlmsim.workloads": ["*.yaml", "*.csv", "*.nir", "*.npz", "*.json"],
    },
)
