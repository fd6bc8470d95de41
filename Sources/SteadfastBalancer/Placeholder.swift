enum SteadfastBalancerPlaceholder {}
