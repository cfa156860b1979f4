"""Family-doctor contracts (家庭医生签约): packages, contracts, key populations, fulfilment (履约)."""
