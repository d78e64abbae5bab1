"""The exceptions of the kvdict package (one module, imported by both readers)."""


class Error(Exception):
    """Base class of every kvdict error."""


class CorruptError(Error, OSError):
    """A dictionary file is damaged: truncated, a checksum mismatch, an offset
    outside its file, a state or record that cannot be decoded, or files that
    do not match the MANIFEST. The Go reader's ErrCorrupt."""


class FormatError(Error, OSError):
    """The path is not a kvdict dictionary, or a file in it does not start
    with kvdict's magic bytes. The Go reader's ErrMagic."""


class VersionError(Error):
    """The dictionary was written by a newer format version, or uses a format
    feature or codec this build cannot read. It is refused rather than
    misread. The Go reader's ErrVersion."""


class BuildError(Error):
    """kvbuild failed (or was not found). ``returncode`` is its exit status
    (None when it could not be started) and the message is its stderr."""

    def __init__(self, message, returncode=None):
        super().__init__(message)
        self.returncode = returncode
