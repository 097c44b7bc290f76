"""IAM Identity Center (SSO): settings, token cache, login flows, role credentials and profile sync."""
