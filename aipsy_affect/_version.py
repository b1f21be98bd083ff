__version__ = "0.2.0"
#: Version of the battery's texts (see CHANGELOG.md); the data sha256 identifies them exactly.
__dataset_version__ = "1.1.0"
