enum SteadfastServicesPlaceholder {}
