"""A clock the harness can stop for the local S3 store (moto): see sitecustomize.py."""
