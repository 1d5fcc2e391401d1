//! The `status` word of a performance sample (`metric.status`, `statistics.status`, and each
//! record of the metrics history).
//!
//! The iSCSI page documents ok, error, partial errors, backfilled_data, inconsistent_delta_time,
//! negative_delta and inconsistent_old_data; NetApp's `netapp-ontap` client enumerates eleven
//! words, adding not_found and partial_no_uuid. A client must still cope with a word it does not
//! know (a newer ONTAP may add one), so a status can also be any other word.

use std::fmt;

/// What a sample's `status` says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MetricStatus {
    /// `ok`: computed normally.
    Ok,
    /// `error`: an internal, uncategorized failure.
    Error,
    /// `partial_no_data`: some node had no data for the object.
    PartialNoData,
    /// `partial_no_response`: some node did not answer the collector.
    PartialNoResponse,
    /// `partial_other_error`: aggregating over the nodes failed in some other way.
    PartialOtherError,
    /// `negative_delta`: a counter that only grows went down (it was reset).
    NegativeDelta,
    /// `not_found`: the object was not found when the sample was collected.
    NotFound,
    /// `backfilled_data`: the collection was missed and done later, back-filled to its instant.
    BackfilledData,
    /// `inconsistent_delta_time`: the time between two collections differed between nodes.
    InconsistentDeltaTime,
    /// `inconsistent_old_data`: some node did not have the latest data.
    InconsistentOldData,
    /// `partial_no_uuid`: some node could not name the object.
    PartialNoUuid,
    /// Any other word, sent as is.
    Other(String),
}

impl MetricStatus {
    /// Every documented status, `ok` first.
    pub const DOCUMENTED: [MetricStatus; 11] = [
        MetricStatus::Ok,
        MetricStatus::Error,
        MetricStatus::PartialNoData,
        MetricStatus::PartialNoResponse,
        MetricStatus::PartialOtherError,
        MetricStatus::NegativeDelta,
        MetricStatus::NotFound,
        MetricStatus::BackfilledData,
        MetricStatus::InconsistentDeltaTime,
        MetricStatus::InconsistentOldData,
        MetricStatus::PartialNoUuid,
    ];

    /// The word ONTAP writes.
    pub fn as_str(&self) -> &str {
        match self {
            MetricStatus::Ok => "ok",
            MetricStatus::Error => "error",
            MetricStatus::PartialNoData => "partial_no_data",
            MetricStatus::PartialNoResponse => "partial_no_response",
            MetricStatus::PartialOtherError => "partial_other_error",
            MetricStatus::NegativeDelta => "negative_delta",
            MetricStatus::NotFound => "not_found",
            MetricStatus::BackfilledData => "backfilled_data",
            MetricStatus::InconsistentDeltaTime => "inconsistent_delta_time",
            MetricStatus::InconsistentOldData => "inconsistent_old_data",
            MetricStatus::PartialNoUuid => "partial_no_uuid",
            MetricStatus::Other(word) => word,
        }
    }
}

impl From<&str> for MetricStatus {
    /// The documented status with this word, or [`MetricStatus::Other`].
    fn from(word: &str) -> MetricStatus {
        MetricStatus::DOCUMENTED
            .into_iter()
            .find(|status| status.as_str() == word)
            .unwrap_or_else(|| MetricStatus::Other(word.to_owned()))
    }
}

impl From<String> for MetricStatus {
    fn from(word: String) -> MetricStatus {
        MetricStatus::from(word.as_str())
    }
}

impl fmt::Display for MetricStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_words_are_netapps_eleven() {
        let words: Vec<&str> = MetricStatus::DOCUMENTED
            .iter()
            .map(MetricStatus::as_str)
            .collect();
        assert_eq!(
            words,
            [
                "ok",
                "error",
                "partial_no_data",
                "partial_no_response",
                "partial_other_error",
                "negative_delta",
                "not_found",
                "backfilled_data",
                "inconsistent_delta_time",
                "inconsistent_old_data",
                "partial_no_uuid",
            ]
        );
    }

    #[test]
    fn words_read_back_as_their_status() {
        for status in MetricStatus::DOCUMENTED {
            assert_eq!(MetricStatus::from(status.as_str()), status);
        }
    }

    #[test]
    fn an_unknown_word_is_kept_as_is() {
        let status = MetricStatus::from("quantum_flux");
        assert_eq!(status, MetricStatus::Other("quantum_flux".to_owned()));
        assert_eq!(status.to_string(), "quantum_flux");
    }
}
