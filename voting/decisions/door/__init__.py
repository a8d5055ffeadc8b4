"""Door to door (扫楼) by grid workers, the 扫楼 list, and proxies (委托书): docs/decisions-over-days.md."""
