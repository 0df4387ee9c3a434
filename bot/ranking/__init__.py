"""Personal ranking: who a paper matches (subscriptions, feed filters), paper features and each member's model."""
