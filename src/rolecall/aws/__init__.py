"""Talking to AWS, in layers: ``settings`` (how to reach a service; pure), ``transport`` (the only place
botocore is imported: clients, their cache, the raw call and its error translation, botocore's own
credential sources), ``hints`` (what an AWS refusal means for a person) and the thin typed clients
``sts`` and ``iam``, which take a ``transport`` argument so that tests pass their own.
"""
