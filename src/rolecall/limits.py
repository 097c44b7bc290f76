"""AWS's limits, in one place: session lengths, parameter sizes and patterns, clock skew.

The numbers AWS documents for STS (the API reference and the service model, ``shared/reference/aws-cli-compat.md``
6.1, 6.2) and for the console's federation endpoint. Every module that checks, caps or explains one of them
imports it from here, so a limit has one name and one value.

On the fast path (a cached ``rolecall env`` imports ``providers/assume_role``): constants only, no imports.
Patterns are plain strings; whoever matches them compiles them (``validation.py``, with ``re.ASCII``: AWS's
``\\w`` is Java's ASCII class).
"""

# -- session lengths, in seconds -------------------------------------------------------------------------------
#: A role session assumed with temporary credentials (role chaining, the MFA session of the reuse strategy, a
#: console session of such a role) lasts at most 1 h, whatever the role's MaxSessionDuration.
CHAINING_CAP_SECONDS = 3600
#: AssumeRole / AssumeRoleWithWebIdentity DurationSeconds: at least 15 minutes...
ROLE_DURATION_MIN = 900
#: ...and at most the highest MaxSessionDuration a role can have (12 h).
ROLE_DURATION_MAX = 43200
#: What AWS gives a role session when DurationSeconds is not sent (the AWS CLI's default too).
ROLE_DURATION_DEFAULT = 3600
#: GetSessionToken (the MFA session) and GetFederationToken: 15 minutes...
SESSION_TOKEN_DURATION_MIN = 900
#: ...to 36 h for IAM users...
SESSION_TOKEN_DURATION_MAX = 129600
#: ...to 1 h for the account's root user.
SESSION_TOKEN_ROOT_DURATION_MAX = 3600
#: GetSessionToken's default for IAM users (12 h).
SESSION_TOKEN_DURATION_DEFAULT = 43200
#: The console's SessionDuration (getSigninToken): 15 minutes to 12 h; at most ``CHAINING_CAP_SECONDS`` for
#: role-chained credentials.
CONSOLE_DURATION_MIN = 900
CONSOLE_DURATION_MAX = 43200
#: The clock skew doctor (RC013) reports. SigV4 itself accepts a request timestamp within 15 minutes of AWS's
#: clock (the sandbox's ``SIGNATURE_SKEW``); 5 minutes leaves room before requests start failing.
CLOCK_SKEW_LIMIT_SECONDS = 300
#: How far SigV4 lets a request's timestamp be from AWS's clock.
SIGV4_SKEW_SECONDS = 900

# -- parameter sizes (characters, or entries) ------------------------------------------------------------------
SESSION_NAME_MIN, SESSION_NAME_MAX = 2, 64
#: GetFederationToken's Name (the session name pattern, shorter).
FEDERATION_NAME_MIN, FEDERATION_NAME_MAX = 2, 32
EXTERNAL_ID_MIN, EXTERNAL_ID_MAX = 2, 1224
SERIAL_MIN, SERIAL_MAX = 9, 256
#: TokenCode: exactly this many digits.
MFA_CODE_LENGTH = 6
ARN_MIN, ARN_MAX = 20, 2048
POLICY_ARNS_MAX = 10
POLICY_PLAINTEXT_MAX = 2048
TAGS_MAX = 50
TAG_KEY_MIN, TAG_KEY_MAX = 1, 128
TAG_VALUE_MAX = 256
SOURCE_IDENTITY_MIN, SOURCE_IDENTITY_MAX = 2, 64
WEB_IDENTITY_TOKEN_MIN, WEB_IDENTITY_TOKEN_MAX = 4, 20000

# -- patterns (AWS's, as strings; match them whole with re.ASCII) ----------------------------------------------
#: RoleSessionName, SourceIdentity, GetFederationToken's Name.
SESSION_NAME_PATTERN = r"[\w+=,.@-]*"
EXTERNAL_ID_PATTERN = r"[\w+=,.@:/-]*"
SERIAL_PATTERN = r"[\w+=/:,.@-]*"
