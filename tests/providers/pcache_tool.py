"""A credential tool for the process-cache tests: counts its runs and prints Version 1 credentials.

Run as ``python pcache_tool.py MODE``; it appends one line to ``$PCACHE_COUNTER`` first, then by MODE:

- ``file``: prints the credentials in ``$PCACHE_CREDENTIALS`` (a JSON file the test wrote from a real sandbox
  GetSessionToken), after ``$PCACHE_SLEEP`` seconds (a wide window for parallel callers to pile up);
- ``sts``: asks the sandbox for a new session (GetSessionToken with ``$PCACHE_KEY`` / ``$PCACHE_SECRET``) and
  prints it: a new answer for each run;
- ``role``: the same with AssumeRole of the sandbox's ``readonly`` role (a role session, as saml2aws prints);
- ``expired``: prints credentials that expired an hour ago;
- ``prompt``: writes "Touch your YubiKey" to its stderr, waits for a line on stdin, then acts as ``file``;
- ``hang``: writes its pid to ``$PCACHE_PID`` and sleeps (the test kills it).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time


def _file_answer() -> dict[str, object]:
    with open(os.environ["PCACHE_CREDENTIALS"]) as handle:
        answer: dict[str, object] = json.load(handle)
    return answer


def _sts_answer(role: bool = False) -> dict[str, object]:
    import boto3

    client = boto3.client(
        "sts",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=os.environ["PCACHE_KEY"],
        aws_secret_access_key=os.environ["PCACHE_SECRET"],
    )
    if role:
        arn = f"arn:aws:iam::{os.environ['PCACHE_ACCOUNT']}:role/readonly"
        creds = client.assume_role(RoleArn=arn, RoleSessionName="pcache")["Credentials"]
    else:
        creds = client.get_session_token()["Credentials"]
    return {
        "Version": 1,
        "AccessKeyId": creds["AccessKeyId"],
        "SecretAccessKey": creds["SecretAccessKey"],
        "SessionToken": creds["SessionToken"],
        "Expiration": creds["Expiration"].isoformat(),
    }


def main(mode: str) -> int:
    with open(os.environ["PCACHE_COUNTER"], "a") as counter:
        counter.write(f"{os.getpid()}\n")
    if mode == "hang":
        with open(os.environ["PCACHE_PID"], "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(60)
        return 1
    if mode == "prompt":
        sys.stderr.write("Touch your YubiKey, then press Enter: ")
        sys.stderr.flush()
        sys.stdin.readline()
    if mode == "expired":
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        answer: dict[str, object] = {"Version": 1, "AccessKeyId": "ASIAEXPIREDEXAMPLE00", "SecretAccessKey": "gone",
                                     "SessionToken": "gone", "Expiration": past.strftime("%Y-%m-%dT%H:%M:%SZ")}
    elif mode in ("sts", "role"):
        answer = _sts_answer(role=mode == "role")
    else:
        time.sleep(float(os.environ.get("PCACHE_SLEEP", "0")))
        answer = _file_answer()
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
