"""Variable and connection propagation: SSM Parameter Store as the source of truth for every environment."""
