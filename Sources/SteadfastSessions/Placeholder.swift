enum SteadfastSessionsPlaceholder {}
