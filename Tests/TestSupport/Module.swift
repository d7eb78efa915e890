enum NATSTestSupportModule {}
