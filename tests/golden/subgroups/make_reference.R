# Reference values for sirtstats.comparative.subgroups (issue #16 item 7): treatment-effect
# odds ratios (glm) and hazard ratios (coxph) within subgroups, with the likelihood-ratio test
# of the treatment-by-subgroup interaction (tern tabulate_rsp_subgroups /
# tabulate_survival_subgroups). Run: Rscript make_reference.R (in this directory).
library(survival)
set.seed(167)
n <- 240
arm <- rbinom(n, 1, 0.5)
albi <- sample(c("1", "2", "3"), n, replace = TRUE, prob = c(0.4, 0.45, 0.15))
ecog <- sample(c("0", ">=1"), n, replace = TRUE)
ecog[sample(n, 6)] <- NA                                  # missing subgroup value
lp <- -0.3 + 0.5 * arm + 0.4 * (albi == "1") - 0.6 * arm * (ecog %in% ">=1")
resp <- rbinom(n, 1, plogis(lp))
time <- round(rexp(n, 0.05 * exp(-0.4 * arm + 0.5 * (albi == "3"))), 0) + 1
cens <- round(runif(n, 5, 60))
event <- as.integer(time <= cens)
time <- pmin(time, cens)
d <- data.frame(arm, albi, ecog, resp, time, event)
write.csv(d, "subgroup_data.csv", row.names = FALSE)
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
rows <- list()
one <- function(dd, var, lev) {
  g <- glm(resp ~ arm, family = binomial, data = dd, control = glm.control(epsilon = 1e-14,
                                                                             maxit = 100))
  ci <- confint.default(g)["arm", ]
  f <- coxph(Surv(time, event) ~ arm, data = dd, control = ctl)
  cf <- exp(confint(f))
  data.frame(subgroup = var, level = lev, n = nrow(dd), n_control = sum(dd$arm == 0),
             n_treated = sum(dd$arm == 1),
             or = exp(coef(g)["arm"]), or_lower = exp(ci[1]), or_upper = exp(ci[2]),
             hr = exp(coef(f)), hr_lower = cf[1], hr_upper = cf[2],
             events = sum(dd$event))
}
rows[[1]] <- one(d, "All patients", "")
for (v in c("albi", "ecog")) {
  for (lev in sort(unique(na.omit(d[[v]])))) rows[[length(rows) + 1]] <- one(d[d[[v]] %in% lev, ], v, lev)
}
ref <- do.call(rbind, rows)
pint <- function(v) {
  dd <- d[!is.na(d[[v]]), ]
  dd$s <- factor(dd[[v]])
  g0 <- glm(resp ~ arm + s, family = binomial, data = dd)
  g1 <- glm(resp ~ arm * s, family = binomial, data = dd)
  c0 <- coxph(Surv(time, event) ~ arm + s, data = dd, control = ctl)
  c1 <- coxph(Surv(time, event) ~ arm * s, data = dd, control = ctl)
  c(rsp = anova(g0, g1, test = "LRT")[2, "Pr(>Chi)"],
    surv = anova(c0, c1)[2, "Pr(>|Chi|)"])
}
p <- sapply(c("albi", "ecog"), pint)
ref$p_interaction_rsp <- NA
ref$p_interaction_surv <- NA
for (v in c("albi", "ecog")) {
  ref$p_interaction_rsp[ref$subgroup == v] <- p["rsp", v]
  ref$p_interaction_surv[ref$subgroup == v] <- p["surv", v]
}
km <- survfit(Surv(time, event) ~ arm, data = d)
write.csv(ref, "subgroup_reference.csv", row.names = FALSE)
write.csv(data.frame(arm = c(0, 1), median = unname(summary(km)$table[, "median"])),
          "median_reference.csv", row.names = FALSE)
writeLines(paste("survival", packageVersion("survival"), R.version.string), "versions.txt")
