"""On-demand months: messages on the SQS FIFO queue `perfplat-queue.fifo` become runs."""
