"""Which packages the wheel holds; everything else is in pyproject.toml.

Every ``explorer*`` package (found, so new subpackages need no listing), plus the top-level
``resources/`` folder, shipped inside the package as ``explorer.resources`` so that
``importlib.resources`` finds the presets however the wheel is installed (``--user``,
``--prefix``, a distro prefix). A checkout keeps ``resources/`` where it is.
"""

from setuptools import find_namespace_packages, find_packages, setup

# resources/ and its folders, as packages of data (setuptools treats every folder as one)
DATA = ["explorer.resources", *(f"explorer.resources.{p}" for p in find_namespace_packages(where="resources"))]

setup(
    packages=[*find_packages(include=["explorer", "explorer.*"]), *DATA],
    package_dir={"explorer.resources": "resources"},
    package_data={p: ["*.json"] for p in DATA},
)
