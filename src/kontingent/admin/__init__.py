"""The campaign operators' console (role admin): dashboard, statistics, exports."""
