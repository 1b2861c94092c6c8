"""Remediation: every fix and next step vizdoctor prints, keyed by cause, in one place.

- `security_group`: Terraform (terraform-aws-eks module map, raw rules) and AWS CLI for a blocked port;
- `gcloud`: the GKE firewall rule;
- `dashboard`: the Host/Origin advice for the viz dashboard (Helm value, proxy settings);
- `steps`: the next steps for each cause `explain` recognises, used by `explain`, `check` and `probe`.
Commands and checks call these; none writes HCL, CLI commands or hint prose of its own.
"""
