//! Median, min and max of the repetitions of one side of a scenario.

use std::time::Duration;

use crate::process::Sample;

/// Summary of one side's repetitions.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub wall_median: Duration,
    pub wall_min: Duration,
    pub wall_max: Duration,
    pub rss_median_kib: u64,
    pub rss_max_kib: u64,
    pub processes: u32,
    /// The highest RSS floor of the samples (see [`Sample::floor_kib`]).
    pub floor_kib: u64,
}

/// Summarises the samples (at least one).
pub fn summarize(samples: &[Sample]) -> Option<Summary> {
    let mut walls: Vec<Duration> = samples.iter().map(|s| s.wall).collect();
    let mut rss: Vec<u64> = samples.iter().map(|s| s.max_rss_kib).collect();
    walls.sort();
    rss.sort();
    Some(Summary {
        wall_median: median(&walls, |a, b| (a + b) / 2)?,
        wall_min: *walls.first()?,
        wall_max: *walls.last()?,
        rss_median_kib: median(&rss, |a, b| (a + b) / 2)?,
        rss_max_kib: *rss.last()?,
        processes: samples.first()?.processes,
        floor_kib: samples.iter().map(|s| s.floor_kib).max()?,
    })
}

/// The middle of a sorted slice; the mean of the two middle values for an even length.
fn median<T: Copy>(sorted: &[T], mean: impl Fn(T, T) -> T) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        mean(sorted[n / 2 - 1], sorted[n / 2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ms: u64, rss: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(ms),
            max_rss_kib: rss,
            processes: 1,
            floor_kib: 0,
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        let odd = summarize(&[s(30, 5), s(10, 7), s(20, 6)]).unwrap();
        assert_eq!(odd.wall_median, Duration::from_millis(20));
        assert_eq!(odd.wall_min, Duration::from_millis(10));
        assert_eq!(odd.wall_max, Duration::from_millis(30));
        assert_eq!((odd.rss_median_kib, odd.rss_max_kib), (6, 7));
        let even = summarize(&[s(40, 1), s(10, 3)]).unwrap();
        assert_eq!(even.wall_median, Duration::from_millis(25));
        assert!(summarize(&[]).is_none());
    }
}
