enum SteadfastConfigPlaceholder {}
