"""Production scoring: the inference path (features -> tier and stage -> repurchase
probability -> coupon offer) packed as one registered MLflow model, batch scoring and serving."""
