enum SteadfastDomainPlaceholder {}
