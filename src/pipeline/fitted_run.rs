//! A finished run that keeps its models: verdicts, re-thresholding and the saved model all
//! start from it. The report it holds is always consistent with its current threshold.

use super::explainer::Explainer;
use super::rethreshold::{rethreshold_with, Thresholded};
use super::run_output::RunOutput;
use crate::detection::detector_model::DetectorModel;
use crate::detection::ensemble::{EnsembleCalibration, ReferenceScores};
use crate::detection::preprocessing::Preprocessing;
use crate::detection::run_config::ThresholdSpec;
use crate::findings::feedback::{Feedback, Pattern, Verdict};
use crate::findings::incidents::{DetectedIncident, IncidentParams};
use crate::findings::response::{self, ResponsePlan, ResponsePolicy};
use std::net::IpAddr;

/// A finished run plus what re-thresholding and saving the model need.
#[derive(Debug, Clone)]
pub struct FittedRun {
    pub output: RunOutput,
    pub explainer: Explainer,
    pub feedback: Feedback,
    pub preprocessing: Preprocessing,
    pub calibration: EnsembleCalibration,
    /// Infrastructure servers (never suggested for blocking).
    pub allowlist: Vec<IpAddr>,
    /// Where the models' training flows came from, in words, and how many there were.
    pub trained_on: String,
    pub training_flows: u64,
}

impl FittedRun {
    /// Records an analyst's verdict on incident `incident_id` (`None` withdraws it) and
    /// applies it at once; false if there is no such incident.
    pub fn judge(&mut self, incident_id: u32, verdict: Option<Verdict>) -> bool {
        let Some(incident) = self
            .output
            .report
            .incidents
            .iter()
            .find(|i| i.id == incident_id)
            .cloned()
        else {
            return false;
        };
        self.feedback.judge(&incident, verdict);
        let spec = self.output.report.config.detection.threshold_spec();
        self.rethreshold(&spec);
        true
    }

    /// Withdraws the verdict on `pattern` (e.g. an undone false positive, whose incident is no
    /// longer listed) and applies the change; false if there was none.
    pub fn withdraw(&mut self, pattern: &Pattern) -> bool {
        let withdrawn = self.feedback.withdraw(pattern);
        if withdrawn {
            let spec = self.output.report.config.detection.threshold_spec();
            self.rethreshold(&spec);
        }
        withdrawn
    }

    /// Follows the form without retraining: re-combines the two models' kept scores with the
    /// forest's new ensemble weight (a run that trained its models; a saved model's weight is
    /// its own), then moves to `spec` and lists the incidents within `incident_budget` (see
    /// `DetectionConfig::incident_budget`; a negative or non-finite one is taken as 0, no
    /// budget). The result is the report and chart series a fresh run with these settings
    /// gives (tests/pipeline.rs). True when the ensemble scores, and with them the chart
    /// series, changed.
    pub fn reevaluate(
        &mut self,
        spec: &ThresholdSpec,
        forest_weight: f64,
        incident_budget: f64,
    ) -> bool {
        self.output.report.config.detection.incident_budget =
            if incident_budget.is_finite() && incident_budget > 0.0 {
                incident_budget
            } else {
                0.0
            };
        let weight = forest_weight.clamp(0.0, 1.0);
        let reweigh = self.output.scored.reference.is_none()
            && weight.to_bits() != self.calibration.forest_weight.to_bits();
        if reweigh {
            self.calibration.forest_weight = weight;
            let out = &mut self.output;
            out.scored.ensemble = self
                .calibration
                .combine_all(&out.scored.isolation_forest, &out.scored.mlp);
            let n = out.scored.ensemble.len();
            let first = n - out.plot.ensemble.len().min(n);
            for (p, &e) in out
                .plot
                .ensemble
                .iter_mut()
                .zip(&out.scored.ensemble[first..])
            {
                *p = e as f32;
            }
            out.report.config.detection.forest_weight = weight;
        }
        self.rethreshold(spec);
        reweigh
    }

    /// Moves the run to another threshold without retraining: threshold, metrics, incidents
    /// and anomalies of the report change, scores and everything else stay.
    pub fn rethreshold(&mut self, spec: &ThresholdSpec) {
        let out = &mut self.output;
        let Thresholded {
            threshold,
            metrics,
            flagged,
            incidents,
            suppressed,
            budget,
        } = rethreshold_with(
            &out.scored,
            spec,
            &IncidentParams::with_budget(out.report.config.detection.incident_budget),
            &self.feedback,
        );
        let max = out.report.config.detection.max_reported_anomalies;
        let (anomalies, truncated) =
            self.explainer
                .anomalies(&out.scored, &flagged, &incidents, max);
        let report = &mut out.report;
        report.config.detection.set_threshold_spec(spec);
        report.threshold = threshold;
        report.metrics = metrics;
        report.responses = responses(&incidents, &self.allowlist, report.data.end_ts);
        report.incident_count = incidents.len() as u64;
        report.incident_budget = budget;
        report.incidents = incidents;
        report.anomaly_count = flagged.len() as u64;
        report.anomalies_truncated = truncated;
        report.anomalies = anomalies;
        report.feedback = self.feedback.verdicts.clone();
        report.suppressed_anomalies = suppressed as u64;
    }
}

/// Blocking suggestions per incident; the network's own infrastructure (DNS, DHCP, NTP
/// servers and domain controllers seen answering in the training rows) is never suggested.
/// Expiry comments are dated from the traffic's last flow, so reports stay deterministic.
pub(super) fn responses(
    incidents: &[DetectedIncident],
    allowlist: &[IpAddr],
    now_ts: f64,
) -> Vec<ResponsePlan> {
    let policy = ResponsePolicy {
        allowlist: allowlist.to_vec(),
        ..ResponsePolicy::default()
    };
    incidents
        .iter()
        .map(|i| response::suggest(i, &policy, now_ts))
        .collect()
}

impl FittedRun {
    /// The run's models as a saved detector (see `detector_model`). For a run that applied a
    /// saved model, the same model again.
    pub fn saved_model(&self) -> DetectorModel {
        let scored = &self.output.scored;
        let reference = scored.reference.clone().unwrap_or_else(|| {
            let train = 0..scored.training_rows.min(scored.flows.len());
            ReferenceScores::from_training(
                &scored.isolation_forest[train.clone()],
                &scored.mlp[train.clone()],
                &scored.ensemble[train],
            )
        });
        DetectorModel {
            app_version: crate::APP_VERSION.to_string(),
            trained_on: self.trained_on.clone(),
            training_flows: self.training_flows,
            detection: self.output.report.config.detection.clone(),
            preprocessing: self.preprocessing.clone(),
            isolation_forest: self.explainer.forest.clone(),
            mlp: self.explainer.mlp.clone(),
            calibration: self.calibration,
            reference,
            medians: self.explainer.medians.clone(),
            allowlist: self.allowlist.clone(),
        }
    }
}
