enum SteadfastPersistencePlaceholder {}
