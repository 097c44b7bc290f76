"""The names ``rolecall doctor`` knows: the keys of profiles and sso-sessions the AWS tools read, nested-block
keys, other tools' key prefixes, the config file's other top-level sections, and where saved sessions keep their
expiry. Tables only; ``rolecall.config.lint`` applies them.
"""

from __future__ import annotations

from rolecall.config.owned import EXPIRY_KEY, OWNER_KEY

__all__ = [
    "EXPIRY_KEYS",
    "FOREIGN_KEY_PREFIXES",
    "KNOWN_NESTED_KEYS",
    "KNOWN_OTHER_SECTIONS",
    "KNOWN_PROFILE_KEYS",
    "KNOWN_SSO_SESSION_KEYS",
]

#: The keys of a profile that the AWS CLI (v1 and v2), botocore and the SDKs read (aws-cli-compat.md, config-vars),
#: plus rolecall's own. Generous on purpose: a false "unknown key" on a working config is worse than a missed typo.
KNOWN_PROFILE_KEYS = frozenset(
    {
        # credentials
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token",
        "aws_account_id", "credential_process", "credential_source", "login_session",
        # roles
        "role_arn", "source_profile", "external_id", "mfa_serial", "role_session_name", "duration_seconds",
        "web_identity_token_file",
        # IAM Identity Center
        "sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name", "sso_registration_scopes",
        "sso_account_name", "sso_auto_populated", "sso_login_mode",
        # region, endpoints, transport
        "region", "output", "endpoint_url", "ignore_configured_endpoint_urls", "services", "ca_bundle",
        "sts_regional_endpoints", "s3_use_arn_region", "use_dualstack_endpoint", "use_fips_endpoint",
        "endpoint_discovery_enabled", "max_attempts", "retry_mode", "parameter_validation", "tcp_keepalive",
        "connect_timeout", "read_timeout", "request_min_compression_size_bytes", "disable_request_compression",
        "defaults_mode", "account_id_endpoint_mode", "sigv4a_signing_region_set", "auth_scheme_preference",
        "request_checksum_calculation", "response_checksum_validation", "disable_host_prefix_injection",
        "ec2_metadata_service_endpoint", "ec2_metadata_service_endpoint_mode", "ec2_metadata_v1_disabled",
        "metadata_service_timeout", "metadata_service_num_attempts", "imds_use_ipv6", "proxy_ca_bundle",
        "api_versions", "csm_enabled", "csm_host", "csm_port", "csm_client_id", "user_agent_appid",
        # nested blocks of services
        "s3", "s3control", "dynamodb", "ec2", "sts", "sqs", "sns", "lambda", "iam", "kms", "cloudwatch",
        "secretsmanager", "ssm", "ecr", "ecs", "eks", "rds", "apigateway", "cloudformation",
        # the AWS CLI's own
        "cli_pager", "cli_timestamp_format", "cli_follow_urlparam", "cli_binary_format", "cli_auto_prompt",
        "cli_history", "cli_help_output", "cli_error_format", "cli_legacy_timestamp_format", "cli_max_attempts",
        # rolecall's own
        "mfa_strategy", "mfa_process", "mfa_session_duration", "console_federation_endpoint",
        "saml_url", "principal_arn",
        "console_browser_mode",
        OWNER_KEY, EXPIRY_KEY,
        # widely used by other tools on the same files (aws-vault, Leapp, saml2aws, aws-sso-util...)
        "include_profile", "parent_profile", "session_tags", "transitive_session_tags", "source_identity",
        "mfa_prompt", "region_default", "aws_credential_expiration", "aws_expiration", "expiration",
    }
)
#: Keys of an ``[sso-session NAME]`` section.
KNOWN_SSO_SESSION_KEYS = frozenset({"sso_start_url", "sso_region", "sso_registration_scopes"})
#: Key prefixes other tools (and people) use for their own data; never reported as unknown.
FOREIGN_KEY_PREFIXES = ("x_", "rolecall_", "granted_", "awsume_", "leapp_", "saml2aws_", "aws_vault_", "cli_")
#: Keys of nested blocks whose names botocore compares case-sensitively (``s3 =`` / ``[services X]`` blocks).
KNOWN_NESTED_KEYS = frozenset(
    {
        "addressing_style", "use_accelerate_endpoint", "use_dualstack_endpoint", "payload_signing_enabled",
        "signature_version", "max_concurrent_requests", "max_queue_size", "multipart_threshold",
        "multipart_chunksize", "max_bandwidth", "use_arn_region", "us_east_1_regional_endpoint", "endpoint_url",
        "preferred_transfer_client", "target_bandwidth", "io_chunksize", "should_stream",
    }
)
#: Top-level sections of the config file the AWS CLI reads that are not profiles.
KNOWN_OTHER_SECTIONS = frozenset({"plugins", "preview", "cli", "toplevel"})
#: Where tools write a saved session's expiry in the credentials file (rolecall save writes rolecall_expiration).
EXPIRY_KEYS = (EXPIRY_KEY, "x_security_token_expires", "aws_credential_expiration", "aws_expiration",
               "expiration", "aws_session_expiration")
