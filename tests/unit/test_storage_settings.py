"""Where files are kept, as the settings say: the data folder unless told otherwise, a bucket
only with its name, and in production only with its key."""

from pathlib import Path

import pytest

from farm.settings import SettingsError, load_settings
from farm.storage import LocalStorage, S3Storage, storage_for
from tests.unit.test_settings_and_i18n import REAL

BUCKET = {
    "FARM_STORAGE": "s3",
    "FARM_S3_BUCKET": "farm-files",
    "FARM_S3_PREFIX": "/prod/",
    "FARM_S3_ENDPOINT_URL": "https://minio.example.cn:9000/",
    "FARM_S3_REGION": "cn-east-1",
    "FARM_S3_ACCESS_KEY_ID": "AKIAFARMEXAMPLE0001",
    "FARM_S3_SECRET_ACCESS_KEY": "Zr7LmT2bWc8YdN4pHs6JfG1aQekq3V9xw0Pq2Lm",
    "FARM_S3_ADDRESSING_STYLE": "path",
}


def test_files_stay_in_the_data_folder_unless_a_bucket_is_named():
    settings = load_settings({"FARM_ENV": "development", "FARM_DATA_DIR": "/srv/farm"})
    storage = storage_for(settings)
    assert settings.storage == "local" and isinstance(storage, LocalStorage)
    assert storage.path("photos/a.jpg") == Path("/srv/farm/photos/a.jpg")  # today's layout


def test_production_keeps_files_in_the_bucket_its_settings_name():
    settings = load_settings({**REAL, **BUCKET})
    storage = storage_for(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("farm-files", "prod/")
    assert settings.s3_endpoint_url == "https://minio.example.cn:9000"
    assert "Zr7LmT2b" not in repr(settings)  # the secret is a Secret


@pytest.mark.parametrize("missing", ["FARM_S3_ACCESS_KEY_ID", "FARM_S3_SECRET_ACCESS_KEY"])
def test_production_refuses_a_bucket_without_its_key(missing):
    environ = {**REAL, **BUCKET}
    del environ[missing]
    with pytest.raises(SettingsError) as err:
        load_settings(environ)
    assert missing in str(err.value) and BUCKET["FARM_S3_SECRET_ACCESS_KEY"] not in str(err.value)


@pytest.mark.parametrize("environment", ["production", "development"])
def test_s3_without_a_bucket_name_is_refused_in_every_environment(environment):
    environ = {**REAL, **BUCKET, "FARM_ENV": environment}
    del environ["FARM_S3_BUCKET"]
    with pytest.raises(SettingsError) as err:
        load_settings(environ)
    assert "FARM_S3_BUCKET" in str(err.value)


def test_development_may_leave_the_key_to_boto3s_own_sources():
    # AWS_* variables, ~/.aws, an instance role: fine on a developer's machine.
    settings = load_settings({"FARM_ENV": "development", "FARM_STORAGE": "s3",
                              "FARM_S3_BUCKET": "dev-files"})  # fmt: skip
    assert isinstance(storage_for(settings), S3Storage)


@pytest.mark.parametrize(
    ("name", "value"), [("FARM_STORAGE", "ftp"), ("FARM_S3_ADDRESSING_STYLE", "sideways")]
)
def test_an_unknown_storage_or_addressing_style_is_refused(name, value):
    with pytest.raises(SettingsError) as err:
        load_settings({**REAL, **BUCKET, name: value})
    assert name in str(err.value)
