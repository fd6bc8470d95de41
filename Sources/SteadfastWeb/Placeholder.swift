enum SteadfastWebPlaceholder {}
