# Reference values for sirtstats.comparative.centres.centre_cox (issue #16 item 8): Cox with a
# baseline hazard per centre (strata) and with a robust SE clustered on the centre.
# Data: ../subgroups/subgroup_data.csv with the ALBI grade playing the centre. Run: Rscript
# make_reference.R (in this directory). CI never runs R.
library(survival)
d <- read.csv("../subgroups/subgroup_data.csv")
d$centre <- paste0("C0", d$albi)
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
fs <- coxph(Surv(time, event) ~ arm + strata(centre), data = d, control = ctl)
fc <- coxph(Surv(time, event) ~ arm + cluster(centre), data = d, control = ctl)
write.csv(data.frame(method = c("stratified", "clustered"), hr = exp(c(coef(fs), coef(fc))),
                     se = c(sqrt(fs$var[1, 1]), sqrt(fc$var[1, 1]))),
          "centre_cox_reference.csv", row.names = FALSE)
writeLines(paste("survival", packageVersion("survival"), R.version.string), "versions.txt")
