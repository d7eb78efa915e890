/// Placeholder replaced by the NATS client work (issue 2).
enum NATSClientModule {}
