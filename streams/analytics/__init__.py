"""Pure battery analytics: stats, SOH, coulomb counting, fusion, cycles, anomalies, alerting."""
