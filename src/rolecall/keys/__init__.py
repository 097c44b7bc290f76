"""Long-term access keys kept out of plaintext files (issue 11, docs/keys.md).

``store`` picks a backend (the system keychain through ``keyring``, or an encrypted file) and gives every
command the same small interface; ``entry`` reads keys typed or piped in; ``importer`` moves keys from the
credentials file into the store; ``rotate`` replaces a stored key with a new one through IAM. None of these
modules is on the cached fast path: ``keyring`` and ``cryptography`` are imported inside functions.
"""
