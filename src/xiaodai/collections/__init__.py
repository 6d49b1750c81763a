"""Post-loan management: contact policy, message screening, collection strategies."""
