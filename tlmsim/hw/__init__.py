"""Hardware models: DRAM, SRAM buffers, NoC, PE array and the controller."""
