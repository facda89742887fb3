"""Provider reports (进度报告 / 结项报告): one per report milestone of a signed contract, filed by the
provider with its evidence, returned for correction or accepted by the buyer, every submitted version
kept; reminders before the due date, lateness, and a report never filed counted as a failed stage."""
