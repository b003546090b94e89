# Reference values for sirtstats.comparative (issue #16 item 4): weighted KM and weighted Cox
# with robust SE from R survival. Run: Rscript make_reference.R (in this directory).
library(survival)
set.seed(16)
n <- 60
x <- rbinom(n, 1, 0.5)
time <- round(rexp(n, 0.1 * exp(0.5 * x)), 1)
time[1:4] <- time[5]                       # ties
event <- rbinom(n, 1, 0.7)
w <- round(runif(n, 0.3, 3), 3)
pair <- rep(1:30, each = 2)
d <- data.frame(time, event, x, w, pair)
write.csv(d, "weighted_data.csv", row.names = FALSE)
f <- coxph(Surv(time, event) ~ x, data = d, weights = w, robust = TRUE,
           control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
fc <- coxph(Surv(time, event) ~ x + cluster(pair), data = d, weights = w,
            control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
write.csv(data.frame(model = c("robust", "cluster_pair"), coef = c(coef(f), coef(fc)),
                     se_robust = c(sqrt(f$var[1, 1]), sqrt(fc$var[1, 1]))),
          "weighted_cox_reference.csv", row.names = FALSE)
km <- survfit(Surv(time, event) ~ x, data = d, weights = w)
grp <- rep(c(0, 1), km$strata)
write.csv(data.frame(group = grp, time = km$time, n_risk = km$n.risk, n_event = km$n.event,
                     surv = km$surv),
          "weighted_km_reference.csv", row.names = FALSE)
write.csv(data.frame(group = c(0, 1), median = unname(summary(km)$table[, "median"])),
          "weighted_km_median_reference.csv", row.names = FALSE)
fu <- coxph(Surv(time, event) ~ x, data = d)
fm <- coxph(Surv(time, event) ~ x + w, data = d)
write.csv(data.frame(analysis = c("Unadjusted Cox", "Multivariable Cox"),
                     hr = c(exp(coef(fu)["x"]), exp(coef(fm)["x"])),
                     se = c(sqrt(fu$var[1, 1]), sqrt(fm$var[1, 1]))),
          "cox_estimates_reference.csv", row.names = FALSE)
writeLines(paste("survival", packageVersion("survival"), R.version.string), "versions.txt")
