enum WazuhSimulatorModule {}
